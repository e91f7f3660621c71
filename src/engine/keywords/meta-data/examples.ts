import { annotationKeyword } from "./annotation";

/** `examples`: collected for enrichment's annotations. */
export const examples = annotationKeyword("examples");
