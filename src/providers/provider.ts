// The Provider service: one streamed model call, whichever wire format the model's entry names.
import { Context, Effect, Layer, Stream } from "effect"
import * as Anthropic from "./anthropic/layer.ts"
import * as ChatCompletions from "./chat-completions/layer.ts"
import type { LlmRequest } from "./conversation.ts"
import { InvalidProvider, type ProviderError } from "./errors.ts"
import type { LlmEvent } from "./event.ts"
import { providerError } from "./http.ts"
import * as OpenAIResponses from "./openai-responses/layer.ts"

export interface Interface {
  /** Streams one answer: Start, deltas, then exactly one Finish; or fails with a ProviderError. */
  readonly stream: (request: LlmRequest) => Stream.Stream<LlmEvent, ProviderError>
}

export class Provider extends Context.Service<Provider, Interface>()("byok/Provider") {}

export const make = Effect.fn("Provider.make")(function*() {
  const chat = yield* ChatCompletions.make()
  const anthropic = yield* Anthropic.make()
  const responses = yield* OpenAIResponses.make()
  const stream = (request: LlmRequest): Stream.Stream<LlmEvent, ProviderError> => {
    switch (request.model.provider) {
      case "generic-chat-completion-api":
        return chat.stream(request)
      case "anthropic":
        return anthropic.stream(request)
      case "openai":
        return responses.stream(request)
      default:
        return Stream.fail(
          providerError({ entry: request.model }, new InvalidProvider({ value: request.model.provider }))
        )
    }
  }
  return Provider.of({ stream })
})

export const layer = Layer.effect(Provider, make())
