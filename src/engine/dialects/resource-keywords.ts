import type { Draft } from "../draft";

/** How a draft's core keywords identify resources and anchors; the registry reads it while scanning. */
export interface ResourceKeywords {
  /** The keyword holding a resource's URI: draft-04's `id`, `$id` since draft-06. */
  readonly id: "id" | "$id";
  /** Before 2019-09 a `$ref` stands for its whole schema, so a sibling `$id` is ignored. */
  readonly refOverridesSiblings: boolean;
  /** Before 2019-09 an `$id` with a plain-name fragment (`#name`) declares an anchor. */
  readonly fragmentAnchors: boolean;
  /** `$anchor` (2019-09 on). */
  readonly anchor: boolean;
  /** `$dynamicAnchor` and `$dynamicRef` (2020-12). */
  readonly dynamicAnchor: boolean;
  /** `$recursiveAnchor` and `$recursiveRef` (2019-09 only). */
  readonly recursiveAnchor: boolean;
  /** `unevaluatedProperties`/`unevaluatedItems` exist, so evaluation may need tracking. */
  readonly unevaluated: boolean;
  /** A metaschema's `$vocabulary` selects the vocabularies (2019-09 on). */
  readonly vocabularies: boolean;
}

const LEGACY: Omit<ResourceKeywords, "id"> = {
  refOverridesSiblings: true,
  fragmentAnchors: true,
  anchor: false,
  dynamicAnchor: false,
  recursiveAnchor: false,
  unevaluated: false,
  vocabularies: false,
};

/** The resource keywords of every supported draft. */
export const RESOURCE_KEYWORDS: Readonly<Record<Draft, ResourceKeywords>> = {
  4: { ...LEGACY, id: "id" },
  6: { ...LEGACY, id: "$id" },
  7: { ...LEGACY, id: "$id" },
  2019: {
    id: "$id",
    refOverridesSiblings: false,
    fragmentAnchors: false,
    anchor: true,
    dynamicAnchor: false,
    recursiveAnchor: true,
    unevaluated: true,
    vocabularies: true,
  },
  2020: {
    id: "$id",
    refOverridesSiblings: false,
    fragmentAnchors: false,
    anchor: true,
    dynamicAnchor: true,
    recursiveAnchor: false,
    unevaluated: true,
    vocabularies: true,
  },
};
