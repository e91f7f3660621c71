import { annotationKeyword } from "./annotation";

/** `description`: collected for enrichment's annotations. */
export const description = annotationKeyword("description");
