"""Building blocks shared by the config models: strict models and id-like codes."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

# Ids and codes are matched against subscriptions and usage events, so stray spaces would never match.
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, pattern=r"^\S+$")]
DisplayName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class ConfigModel(BaseModel):
    """Unknown fields are errors, so a misspelt key (`intervall`) is never a silently ignored setting."""

    model_config = ConfigDict(extra="forbid", frozen=True)
