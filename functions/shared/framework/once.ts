/**
 * A value loaded once per container (configuration, secrets, clients) and shared by every invocation.
 * A failed load is not kept: the next call tries again, so a cold start that met a throttled Secrets
 * Manager does not poison the container.
 */
export function onceUntilFailure<T>(load: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => {
    value ??= load().catch((error: unknown) => {
      value = undefined;
      throw error;
    });
    return value;
  };
}
