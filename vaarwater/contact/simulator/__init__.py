"""The built-in SMS / WhatsApp provider simulator (see ``server``).

``vaarwater simulator`` runs it in the foreground; ``simulator_start`` runs it in a thread.
"""

from .server import Simulator, SimulatorConfig, SimulatorServer, simulator_start

__all__ = ["Simulator", "SimulatorConfig", "SimulatorServer", "simulator_start"]
