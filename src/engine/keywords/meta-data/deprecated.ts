import { annotationKeyword } from "./annotation";

/** `deprecated`: collected for enrichment's annotations. */
export const deprecated = annotationKeyword("deprecated");
