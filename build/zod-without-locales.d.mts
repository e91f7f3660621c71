// The types of build/zod-without-locales.mjs: zod's, without `locales` (the test compares them).
export * from "zod";
export { z, z as default } from "zod";
