// Command citychain is the one binary of CityChain: it runs nodes and
// development networks, manages keys, and builds, signs and sends
// transactions. Run `citychain help` for the commands.
package main
