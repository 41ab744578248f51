"""LILAC (Cui, Karamcheti et al., HRI 2023): the latent-action model with the alpha gate, trained
on task and correction demos; loss: action reconstruction MSE (see ``models``)."""

from __future__ import annotations

from ifagent_ros.core.latent_actions.kinds.latent import LatentKind


class Lilac(LatentKind):
    name = "lilac"
    gated = True
    demo_kinds = ("task", "correction")


KIND = Lilac()
