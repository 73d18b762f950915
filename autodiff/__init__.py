"""Automatic differentiation: the gradient tape (`tape`, eager and traced), reverse mode on the IR (`reverse`:
through cond and while_loop, with stacks) and forward mode on the IR (`forward`).

Every gradient here comes from the op table's `vjp` facets (and, where a row has one, its `jvp` facet), applied
through an emitter (`ir.emitter`).

The rules of rows whose derivative is not a plain per-result rule (cond, while_loop, call, stacks) live in
`rules_reverse` and `rules_forward`, which fill those rows' `vjp_region` / `jvp_region` facets when this package is
imported; the drivers `reverse` and `forward` read the facets and name no op.

Gradients of gradients through loops: `loop_pairs` sweeps back a gradient's own taping and popping loops as the
loop they differentiate, and `transpose` gives the reverse of a loop's vjp from its jvp loop (reverse over forward),
so reverse over reverse goes through loops, and a further sweep through the pairs that makes (third order is tested).
"""
from autodiff import rules_forward, rules_reverse  # noqa: F401  (fills the rows' vjp_region / jvp_region)
