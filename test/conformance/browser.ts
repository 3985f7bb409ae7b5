// $BROWSER for the conformance suite: stands for the person, following the authorization server's redirects (it
// approves at once) to byok's loopback callback.
const url = process.argv[2]
if (url !== undefined) await fetch(url, { redirect: "follow" }).then((r) => r.text()).catch(() => "")
export {}
