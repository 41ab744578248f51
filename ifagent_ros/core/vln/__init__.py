"""Vision-and-language navigation: instruction decomposition, an online topological map, planners
(rule-based default, optional LLM backends), R2R-style metrics and graph environments.

``types`` holds the contract every environment (R2R graph, PyBullet house, Habitat) and every
planner share, so any planner runs in any environment.
"""
