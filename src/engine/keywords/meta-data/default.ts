import { annotationKeyword } from "./annotation";

/** `default`: collected for enrichment's annotations. */
export const defaultKeyword = annotationKeyword("default");
