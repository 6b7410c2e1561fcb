// Package sdk is what a module needs beyond package chain: the interface
// through which a module adds its commands to the citychain CLI, and small
// helpers for integers and keys that every module uses. The state machine
// contract itself (App, Context, Store) lives in package chain.
package sdk
