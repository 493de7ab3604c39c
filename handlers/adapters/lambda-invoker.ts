import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';

/** A function's own error, as Lambda reports it for a synchronous invocation (FunctionError + error payload). */
export class InvokedFunctionError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/** Synchronous invocation of one function with a JSON payload; the function's own error is thrown by its name. */
export class LambdaInvoker {
  constructor(
    private readonly client: LambdaClient,
    private readonly functionName: string,
  ) {}

  async invoke(payload: unknown): Promise<unknown> {
    const out = await this.client.send(
      new InvokeCommand({
        FunctionName: this.functionName,
        InvocationType: 'RequestResponse',
        Payload: new TextEncoder().encode(JSON.stringify(payload)),
      }),
    );
    const text = out.Payload ? new TextDecoder().decode(out.Payload) : '';
    const body = text ? (JSON.parse(text) as unknown) : undefined;
    if (out.FunctionError) {
      const b = (body ?? {}) as { errorType?: string; errorMessage?: string };
      throw new InvokedFunctionError(b.errorType ?? 'Lambda.Unknown', b.errorMessage ?? `${this.functionName} failed (${out.FunctionError})`);
    }
    return body;
  }
}
