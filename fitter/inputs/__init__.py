"""A collaboration's own inputs: analysis configuration files, histograms and simulated
events → a binned model with its oscillation response (docs/inputs.md).

>>> from ganom.fitter.inputs import SCHEMA_VERSION
>>> SCHEMA_VERSION
'1.0'
"""

from ganom.fitter.inputs.build import AXES, Analysis, ChannelBinning, EventResponse, build_analysis
from ganom.fitter.inputs.config import COLUMN_DEFAULTS, SCHEMA_VERSION, read_config, schema, validate_config
from ganom.fitter.inputs.readers import Histogram, InputFileError, read_events, read_histogram

__all__ = ["AXES", "Analysis", "ChannelBinning", "EventResponse", "build_analysis", "COLUMN_DEFAULTS",
           "SCHEMA_VERSION", "read_config", "schema", "validate_config", "Histogram", "InputFileError",
           "read_events", "read_histogram"]
