"""The Amazon States Language: definitions parsed and validated into immutable programs.

Public surface: :func:`parse_definition`, :func:`validate_definition`, :class:`Program`, and the
errors. Everything that can be compiled (paths, templates, intrinsics, JSONata, choice rules) is
compiled once, when the definition is parsed.
"""

from headwater.services.stepfunctions.asl.errors import Diagnostic, InvalidDefinition, StatesError
from headwater.services.stepfunctions.asl.parser import parse_definition, validate_definition
from headwater.services.stepfunctions.asl.program import Branch, Program

__all__ = ["Branch", "Diagnostic", "InvalidDefinition", "Program", "StatesError",
           "parse_definition", "validate_definition"]
