"""Deployment files generated from the same definitions: PM2, compose, systemd, Kubernetes."""

from .render import TARGETS, render_target
from .settings import DeployError, DeploySettings

__all__ = ["TARGETS", "DeployError", "DeploySettings", "render_target"]
