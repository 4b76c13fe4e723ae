"""crmctl: the operator's command line, outside the runtime library every service installs."""
