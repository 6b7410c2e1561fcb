// Package sdktest helps test a module's CLI commands without a node:
// Client is an sdk.Client that sends transactions and queries straight to
// an in-memory chain (chain/chaintest), as citychain does over HTTP.
package sdktest
