"""Automatic differentiation: the tape (eager and traced) and, later, reverse and forward mode on the IR.

Every gradient here comes from the op table's `vjp` facets, applied through an emitter (`ir.emitter`).
"""
