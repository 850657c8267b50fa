"""Survey design: the instrument model, loading and validation, deploy formats, import, planning."""

from survey_pipeline.instrument.load import (
    list_templates,
    load_instrument,
    resolve_path,
    templates_dir,
    validate_instrument,
)
from survey_pipeline.instrument.model import (
    Choice,
    ChoiceList,
    Instrument,
    Item,
    Module,
    Question,
    Role,
    Scale,
    Variable,
)

__all__ = [
    "Choice",
    "ChoiceList",
    "Instrument",
    "Item",
    "Module",
    "Question",
    "Role",
    "Scale",
    "Variable",
    "list_templates",
    "load_instrument",
    "resolve_path",
    "templates_dir",
    "validate_instrument",
]
