"""Survey design: the instrument model, loading and validation, deploy formats, import, planning."""

from survey_pipeline.instrument.areas import read_areas
from survey_pipeline.instrument.deploy import FORMATS, export_instrument
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
    "FORMATS",
    "Choice",
    "ChoiceList",
    "Instrument",
    "Item",
    "Module",
    "Question",
    "Role",
    "Scale",
    "Variable",
    "export_instrument",
    "list_templates",
    "load_instrument",
    "read_areas",
    "resolve_path",
    "templates_dir",
    "validate_instrument",
]
