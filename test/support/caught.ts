/** The error a call throws, for tests of refused calls. */

/** The error `f` throws (synchronously or as a rejection); fails the test if it does not throw. */
export const caught = async (f: () => unknown): Promise<Error> => {
  try {
    await f()
  } catch (e) {
    return e as Error
  }
  throw new Error("expected an error, none was thrown")
}

/** The error `f` throws synchronously; fails the test if it does not throw. */
export const thrown = (f: () => unknown): Error => {
  try {
    f()
  } catch (e) {
    return e as Error
  }
  throw new Error("expected an error, none was thrown")
}
