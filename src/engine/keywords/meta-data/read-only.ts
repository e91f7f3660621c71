import { annotationKeyword } from "./annotation";

/** `readOnly`: collected for enrichment's annotations. */
export const readOnly = annotationKeyword("readOnly");
