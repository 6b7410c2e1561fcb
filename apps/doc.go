// Package apps lists the modules of CityChain. All is the one explicit
// place where modules are registered: a new module is a folder under
// apps/ plus one line here.
package apps
