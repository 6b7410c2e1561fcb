// Package client is a Go client for a CityChain node's HTTP API, used by
// the CLI, the tests and the load generator.
package client
