/** `npm run client:generate`: rewrites clients/typescript/generated/api-types.ts from the current /openapi.json. */
import { writeFile } from "node:fs/promises";
import { CLIENT_TYPES_PATH, clientTypesText } from "./client-types";

await writeFile(CLIENT_TYPES_PATH, await clientTypesText());
console.log(`wrote ${CLIENT_TYPES_PATH}`);
