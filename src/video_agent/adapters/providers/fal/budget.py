"""The optional spending cap of a story: estimated cost of every paid submission, summed."""

from __future__ import annotations

from video_agent.adapters.providers.base import ProviderError


class BudgetExceeded(ProviderError):
    """Submitting would take the story's estimated spend past its cap (critical)."""

    def __init__(self, *, story_id: str, spent: float, estimate: float, budget: float) -> None:
        super().__init__(
            f"budget_usd: submitting would cost about ${estimate:.2f} on top of ${spent:.2f} "
            f"already committed for story {story_id!r}, over the ${budget:.2f} cap",
            kind="budget", critical=True, field="budget_usd")
        self.spent = spent
        self.estimate = estimate
        self.budget = budget


def over_budget(spent: float, estimate: float, budget: float | None) -> bool:
    """True when ``estimate`` more would pass ``budget`` (a tiny tolerance for rounding)."""
    return budget is not None and spent + estimate > budget + 1e-9
