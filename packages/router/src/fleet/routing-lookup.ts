/**
 * What routing asks the fleet on every request, answered from a cache: a model's candidate
 * nodes, whether any node lists the model, and whether it is embeddings-only. With a large
 * fleet, walking every node's model list each time cost more than the rest of selection. The
 * answers are built on first use and dropped (`invalidate`) whenever a node's status, approval
 * or model list may have changed; heartbeats that only refresh load figures keep them (the
 * lists hold the node objects, so load stays current).
 */
import { declaresOnlyEmbeddings, type FleetNode, nodeHasReadyModel } from './types.js';

/** The fleet's model ids: every one some node lists, and those only ever declared embeddings-only. */
interface ModelCatalogue {
  known: Set<string>;
  embeddingsOnly: Set<string>;
}

export class RoutingLookup {
  private readonly candidates = new Map<string, FleetNode[]>();
  private catalogue: ModelCatalogue | null = null;

  constructor(private readonly nodes: ReadonlyMap<string, FleetNode>) {}

  /** Online nodes with the model ready. */
  candidatesFor(model: string): readonly FleetNode[] {
    const cached = this.candidates.get(model);
    if (cached) return cached;
    const out: FleetNode[] = [];
    for (const node of this.nodes.values()) {
      if (node.status === 'online' && nodeHasReadyModel(node, model)) out.push(node);
    }
    // Frozen: a list never changes once handed out (a changed fleet makes new ones), which is
    // what lets a balancer keep an index per list (balancer/auto.ts).
    Object.freeze(out);
    // Only models some node lists are cached, so the map stays as small as the fleet's catalogue.
    if (out.length > 0 || this.isModelKnown(model)) this.candidates.set(model, out);
    return out;
  }

  isModelKnown(model: string): boolean {
    return this.modelCatalogue().known.has(model);
  }

  servesOnlyEmbeddings(model: string): boolean {
    return this.modelCatalogue().embeddingsOnly.has(model);
  }

  invalidate(): void {
    this.candidates.clear();
    this.catalogue = null;
  }

  /**
   * What every node lists, in one walk over the fleet's model lists (the walk is O(fleet), the
   * answers O(1)). Same rules as `servesOnlyEmbeddings` in types.ts.
   */
  private modelCatalogue(): ModelCatalogue {
    if (!this.catalogue) {
      const known = new Set<string>();
      const notOnlyEmbeddings = new Set<string>();
      for (const node of this.nodes.values()) {
        for (const m of node.models) {
          known.add(m.id);
          if (!declaresOnlyEmbeddings(m)) notOnlyEmbeddings.add(m.id);
        }
      }
      const embeddingsOnly = new Set<string>();
      for (const id of known) if (!notOnlyEmbeddings.has(id)) embeddingsOnly.add(id);
      this.catalogue = { known, embeddingsOnly };
    }
    return this.catalogue;
  }
}
