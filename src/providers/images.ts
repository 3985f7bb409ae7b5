// Images a user attaches: read from a file, recognised by their first bytes (PNG, JPEG, GIF, WebP: what all three
// APIs take), measured (width and height from the header, for the prompt estimate), and checked against the API's
// limits before anything is sent. Each format lowers an image in its own request.ts.
import type { ModelEntry } from "../config/schema.ts"
import type { ImagePart } from "./conversation.ts"

export type MediaType = "image/png" | "image/jpeg" | "image/gif" | "image/webp"

/** The image type a file's first bytes say, or undefined for anything else. */
export const mediaTypeOf = (bytes: Uint8Array): MediaType | undefined => {
  const starts = (...sig: ReadonlyArray<number>) => sig.every((b, i) => bytes[i] === b)
  if (starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return "image/png"
  if (starts(0xff, 0xd8, 0xff)) return "image/jpeg"
  if (starts(0x47, 0x49, 0x46, 0x38)) return "image/gif"
  if (starts(0x52, 0x49, 0x46, 0x46) && bytes[8] === 0x57 && bytes[9] === 0x45 && bytes[10] === 0x42 && bytes[11] === 0x50) return "image/webp"
  return undefined
}

/** Width and height from the image's header; undefined where it cannot be read (the estimate then assumes a large one). */
export const dimensionsOf = (bytes: Uint8Array, type: MediaType): { readonly width: number; readonly height: number } | undefined => {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  try {
    switch (type) {
      case "image/png":
        return { width: view.getUint32(16), height: view.getUint32(20) }
      case "image/gif":
        return { width: view.getUint16(6, true), height: view.getUint16(8, true) }
      case "image/webp": {
        const chunk = String.fromCharCode(...bytes.slice(12, 16))
        if (chunk === "VP8X") return { width: 1 + (view.getUint32(24, true) & 0xffffff), height: 1 + (view.getUint32(27, true) & 0xffffff) }
        if (chunk === "VP8L") {
          const b = view.getUint32(21, true)
          return { width: 1 + (b & 0x3fff), height: 1 + ((b >> 14) & 0x3fff) }
        }
        return { width: view.getUint16(26, true) & 0x3fff, height: view.getUint16(28, true) & 0x3fff }
      }
      case "image/jpeg": {
        // The first start-of-frame marker (SOF0–SOF15 but DHT, JPG, DAC) holds the size.
        for (let at = 2; at + 9 < bytes.length;) {
          if (bytes[at] !== 0xff) return undefined
          const marker = bytes[at + 1]!
          const length = view.getUint16(at + 2)
          if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
            return { width: view.getUint16(at + 7), height: view.getUint16(at + 5) }
          }
          at += 2 + length
        }
        return undefined
      }
    }
  } catch {
    return undefined
  }
}

/** An image part from a file's bytes, or why it cannot be one. */
export const imageFromBytes = (bytes: Uint8Array): ImagePart | string => {
  const type = mediaTypeOf(bytes)
  if (type === undefined) return "not a PNG, JPEG, GIF or WebP image"
  const size = dimensionsOf(bytes, type)
  return {
    type: "image",
    mediaType: type,
    data: Buffer.from(bytes).toString("base64"),
    ...(size !== undefined ? { width: size.width, height: size.height } : {})
  }
}

/**
 * What each API takes: Anthropic at most 100 images a request, each at most 5 MB as base64; OpenAI's APIs at most
 * 500 images and 50 MB of them a request (the Chat Completions servers byok talks to vary: OpenAI's limits stand in).
 */
const LIMITS = {
  anthropic: { count: 100, eachBase64: 5 * 1024 * 1024, totalBytes: undefined },
  openai: { count: 500, eachBase64: undefined, totalBytes: 50 * 1024 * 1024 },
  "generic-chat-completion-api": { count: 500, eachBase64: undefined, totalBytes: 50 * 1024 * 1024 }
} as const

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`

/**
 * Why these images cannot go to this model, or undefined when they can: the entry says it takes none (droid's
 * `noImageSupport`, or `supportsImages: false`), or the API's limits.
 */
export const imagesRefused = (entry: ModelEntry, images: ReadonlyArray<ImagePart>): string | undefined => {
  if (images.length === 0) return undefined
  if (entry.noImageSupport !== undefined) {
    return `"${entry.displayName}" takes no images (${entry.noImageSupport} in ${entry.source.file}); remove the image, or use another model`
  }
  const limit = LIMITS[entry.provider]
  if (images.length > limit.count) return `${images.length} images in one request; ${entry.provider === "anthropic" ? "Anthropic" : "the API"} takes at most ${limit.count}`
  if (limit.eachBase64 !== undefined) {
    const big = images.find((i) => i.data.length > limit.eachBase64)
    if (big !== undefined) return `an image is ${mb(big.data.length)} as base64; Anthropic takes at most ${mb(limit.eachBase64)} each`
  }
  if (limit.totalBytes !== undefined) {
    const total = images.reduce((n, i) => n + (i.data.length * 3) / 4, 0)
    if (total > limit.totalBytes) return `the images are ${mb(total)} together; the API takes at most ${mb(limit.totalBytes)} of them a request`
  }
  return undefined
}

/**
 * About how many tokens an image costs: Anthropic's width × height / 750 (for an image it need not shrink), OpenAI's
 * 85 + 170 per 512-pixel tile after scaling to fit 2048 and a 768 short side. An image whose size is unknown counts
 * as a large one.
 */
export const imageTokens = (image: ImagePart, provider: ModelEntry["provider"]): number => {
  const w = image.width ?? 1568
  const h = image.height ?? 1568
  if (provider === "anthropic") {
    const scale = Math.min(1, 1568 / Math.max(w, h))
    return Math.ceil((w * scale * h * scale) / 750)
  }
  let sw = w
  let sh = h
  const fit = Math.min(1, 2048 / Math.max(sw, sh))
  sw *= fit
  sh *= fit
  const short = Math.min(1, 768 / Math.min(sw, sh))
  sw *= short
  sh *= short
  return 85 + 170 * Math.ceil(sw / 512) * Math.ceil(sh / 512)
}
