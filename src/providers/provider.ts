// The Provider service: one streamed model call, in the wire format the model's entry names (providers/registry.ts).
import { Context, Effect, Layer, Stream } from "effect"
import type { LlmRequest } from "./conversation.ts"
import type { ProviderError } from "./errors.ts"
import type { LlmEvent } from "./event.ts"
import { makeWireFormat, type WireFormat } from "./format.ts"
import { type ProviderName, PROVIDERS } from "./names.ts"
import { WIRE_FORMATS } from "./registry.ts"

export interface Interface {
  /** Streams one answer: Start, deltas, then exactly one Finish; or fails with a ProviderError. */
  readonly stream: (request: LlmRequest) => Stream.Stream<LlmEvent, ProviderError>
}

export class Provider extends Context.Service<Provider, Interface>()("byok/Provider") {}

export const make = Effect.fn("Provider.make")(function*() {
  const formats = {} as Record<ProviderName, WireFormat>
  for (const name of PROVIDERS) formats[name] = yield* makeWireFormat(WIRE_FORMATS[name])
  return Provider.of({ stream: (request) => formats[request.model.provider].stream(request) })
})

export const layer = Layer.effect(Provider, make())
