raise RuntimeError("broken_steps cannot be imported (on purpose)")
