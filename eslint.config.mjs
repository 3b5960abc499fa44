// Lint and format, as Effect's own repository does: ESLint's and typescript-eslint's recommended
// rules, and dprint (its TypeScript plugin ships as a WebAssembly file inside the @dprint/typescript
// npm package, so formatting works offline) run as the ESLint rule `@effect/dprint`.
// `npm run lint` checks, `npm run lint:fix` rewrites.
import * as effectEslint from "@effect/eslint-plugin"
import js from "@eslint/js"
import tseslint from "typescript-eslint"

export default tseslint.config(
  { ignores: ["**/dist/", "**/node_modules/", "bench/results/", ".durable-tasks/", ".tmp/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...effectEslint.configs.dprint,
  {
    rules: {
      "@effect/dprint": ["error", {
        config: {
          indentWidth: 2,
          lineWidth: 120,
          semiColons: "asi",
          quoteStyle: "alwaysDouble",
          trailingCommas: "never",
          operatorPosition: "maintain",
          "arrowFunction.useParentheses": "force"
        }
      }],
      // dprint keeps code within 120 columns where it can; this also holds comments and long strings to it
      "max-len": ["error", { code: 120, tabWidth: 2, ignoreUrls: true }],
      // one concept per file: a file past 400 lines is split, not grown
      "max-lines": ["error", { max: 400 }],
      "object-shorthand": "error",
      "no-fallthrough": "off",
      "prefer-rest-params": "off",
      "prefer-spread": "off",
      "@typescript-eslint/array-type": ["error", { default: "generic", readonly: "generic" }],
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-empty-object-type": "off",
      "@typescript-eslint/no-namespace": "off",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }]
    }
  },
  {
    files: ["**/*.mjs", "**/*.cjs"],
    languageOptions: {
      globals: { console: "readonly", process: "readonly", require: "readonly", module: "writable" }
    },
    rules: { "@typescript-eslint/no-require-imports": "off" }
  }
)
