// @ts-check
import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", ".data/", ".cache/", "tools/**/*.go"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      "no-control-regex": "off",
      eqeqeq: ["error", "always"],
      // Config is read once in src/config.ts; everything else gets it passed in.
      "no-restricted-properties": ["error", { object: "process", property: "env", message: "Read configuration through src/config.ts." }],
    },
  },
  {
    files: ["src/config.ts", "test/**", "bench/**", "tools/**", "src/store/db-server.ts"],
    rules: { "no-restricted-properties": "off" },
  },
);
