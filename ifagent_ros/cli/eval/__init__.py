"""`ifagent eval <what>`: evaluations that print their figures (and one JSON object with --json).

    ifagent eval grounding          referring-expression grounding accuracy per family
    ifagent eval shared-autonomy    teleop vs. BC vs. LILA vs. LILAC with the simulated user
    ifagent eval r2r                vision-and-language navigation on R2R graphs (NE, SR, SPL, ...)
    ifagent eval houses             the same planners in generated simulated houses

One module per target, each registered in :mod:`ifagent_ros.cli.verbs`.
"""
