// Package trace records supply-chain events in the GS1 EPCIS 2.0 model
// and answers where a product has been, what it was made from and what
// it is now. Events are ObjectEvent, AggregationEvent,
// TransformationEvent, TransactionEvent and AssociationEvent, with the
// CBV 2.0 vocabularies for bizStep, disposition and the other "why"
// fields. Participants (manufacturers, logistics providers, retailers)
// capture events about their own identifiers at their own locations;
// admins register participants. README.md maps the standard onto the
// module in more detail.
//
// Files:
//
//	app.go           the action table (sdk.Module) and its handlers, InitGenesis, DevGenesis
//	msgs.go          the payloads (Capture, Participant), decoded and checked without state
//	event.go         an EPCIS event's what/when/where/why, validated; fields.go reads its JSON fields
//	epc.go           EPC URIs, SGLNs and geo: locations; digitallink.go, GS1 Digital Link URIs
//	cbv.go           the CBV 2.0 vocabularies
//	hash.go          the CBV 2.0 event hash (ni:///sha-256;...?ver=CBV2.0)
//	participant.go   who may capture what
//	keeper.go        state keys, an event stored with its indexes, and the state of each object
//	query.go         the query table and its answers, each event in them with its proof (EventView)
//	provenance.go    the provenance trees
//	document.go      EPCIS documents to capture payloads, split to fit transactions
//	cli.go           citychain tx trace ... and citychain query trace ...
//
// State (under the app's prefix "a/trace/"). {seq} is an event's
// sequence number, 8 bytes big-endian; {key} is an identifier's canonical
// key (its GS1 Digital Link on id.gs1.org, see ID.Key); 0x00 ends a key
// that other key parts follow, since a Digital Link contains "/":
//
//	seq                        the last sequence number given out
//	ev/{seq}                   Record: the event JSON (CBV words bare, decimals as numbers) plus block, sender, event hash, normalized fields (proved in answers)
//	eid/{eventID}              {seq} of the ordinary event with this eventID
//	hash/{event hash}          {seq} of the ordinary event with this CBV 2.0 event hash
//	decl/{eventID or hash}     {seq} of the errorDeclaration that retracts the event with this eventID (its hash when it has none)
//	epc/{key}0x00{seq}         the parts the identifier plays in event {seq} ("child,input")
//	step/{bizStep}0x00{seq}    events by business step (bare CBV word or user URI)
//	loc/{GLN}/{seq}            events by readPoint or bizLocation GLN (13 digits)
//	time/{eventTime}{seq}      events by eventTime (Unix ms, sign bit flipped, 8 bytes)
//	state/{key}                State of a single object: last step, disposition, location, container
//	in/{parent}0x00{child}     the child is packed in the parent now (aggregation)
//	with/{parent}0x00{child}   the child is attached to the parent now (association)
//	part/{address}             a registered participant
//
// Invariants:
//   - Nothing is deleted or rewritten: an event, once stored, stays at its
//     sequence number. A correction is an errorDeclaration (the original
//     event repeated with its eventID) plus a corrective event, as EPCIS
//     prescribes.
//   - state/{key} is a function of the object's stored events: those not
//     declared erroneous, folded in chain order, the latest eventTime
//     winning. in/ and with/ mirror the Container and AttachedTo of the
//     states.
//   - An EPC URI and the Digital Link of the same identifier share one key,
//     so an object has one history whichever spelling each party uses.
//   - Every stored event passed Check (EPCIS 2.0 and CBV 2.0) and the
//     capture rules of participant.go for the participant that signed it.
//   - No two ordinary events have the same eventID or the same CBV 2.0
//     event hash: the same event is recorded once, whoever captures it.
package trace
