import { annotationKeyword } from "./annotation";

/** `writeOnly`: collected for enrichment's annotations. */
export const writeOnly = annotationKeyword("writeOnly");
