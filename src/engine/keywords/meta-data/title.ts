import { annotationKeyword } from "./annotation";

/** `title`: collected for enrichment's annotations. */
export const title = annotationKeyword("title");
