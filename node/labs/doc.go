// Package labs holds CityChain's guided labs and the checks that tell a
// student, in English or Chinese, what is done and what is still missing.
//
// A lab is a table of steps (Lab.Steps). Each step has a name, a check
// and a hint, each in every language the labs speak (Text). Adding a lab
// is one file with one table and one line in All.
//
// A check reads the network only through the node's HTTP API (Chain: the
// same paths any client uses, GET /v1/blocks/{h}, /v1/apps/{app}/...),
// never through a module's Go package. It therefore sees exactly what a
// student sees, and works against any node of any version that answers
// the API of DESIGN.md.
//
// Some steps need the student's side: the keystore, what their program
// printed, a certificate file. `citychain lab check N` passes those in
// Student. The node itself (GET /v1/labs, the explorer's Labs page) has
// no Student: such a step reports StateLocal, "checked by citychain lab
// check N", and never guesses.
//
// Invariants:
//   - a check never panics on what the network or a file holds; it says
//     what it found, and a failure to reach the node is an error of the
//     whole check, not a missing step;
//   - a step that needs the chain's past reads the last HistoryWindow
//     blocks only, so a check costs the same on a long-lived chain;
//   - a hint never gives away an answer the student is asked to find.
package labs
