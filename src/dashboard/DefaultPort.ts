/**
 * The port the dashboard listens on by default (the `dashboard` command and `Serve.serve`).
 *
 * @since 0.1.0
 */

/** @since 0.1.0 @category constants */
export const DEFAULT_PORT = 4280
