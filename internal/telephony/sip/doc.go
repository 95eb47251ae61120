// Package sip is Centralita's SIP side of telephony: a registrar and a
// SIP switch (Switch, a telephony.Switch) built on sipgo v1.7.2, with RTP
// media of our own (media.go; diago is not used) over the pure audio
// package (internal/telephony/audio: G.711, WAV, tones, Goertzel, RFC 4733,
// the mixer, jitter queues, prompts). It passes the whole
// telephony/switchtest contract.
//
// # What works
//
// Registrar (registrar.go): REGISTER with digest auth (MD5, qop=auth,
// stateless HMAC nonces, stale nonces) against the directory's station
// passwords; several contacts per station, expiry and refresh on the
// injected clock, unregister (one contact or "*"), OPTIONS. Standalone on
// its own socket (ListenUDP) or attached to the switch's socket.
//
// Switch (switch.go), one UDP socket for SIP (Options.Listen) and, with
// Options.TLSListen, SIP over TLS as well (tls.go, below):
//
//   - Originate to "station:NAME": INVITE with a PCMU + telephone-event
//     SDP offer to the station's first registered contact. 180/183 give
//     Ringing (a 200 that comes with no provisional before it still gives
//     Ringing first), 200 is ACKed and gives Answered. Failures give Hangup
//     with 486/600 → busy, 480/408/ring timeout → no-answer, 603 →
//     rejected, anything else (and a station with no registered device) →
//     failed. The ring timeout (OriginateRequest.RingTimeout, default 30 s)
//     runs on Options.Clock and sends CANCEL. Originate returns once the
//     INVITE is sent, or with why it could not be (a host name that does
//     not resolve, a certificate that does not verify); resolving and
//     connecting (2 s at most) happen without the switch's lock, so other
//     calls go on meanwhile.
//   - Inbound INVITEs are accepted from inbound trunks and from registered
//     devices (the From user is a station whose REGISTER came from the
//     same host, and the INVITE answers a digest challenge with the
//     station's password, as REGISTER does: 401, then 403 for a wrong
//     one); anything else gets 403, an offer without PCMU 488. The
//     switch answers 100 Trying and emits Incoming with From (the caller's
//     user part; "anonymous" becomes "") and To (the dialled user part).
//   - Answer sends 200 OK with our SDP (a local RTP port from
//     Options.RTPPortMin..RTPPortMax, or any port); Answered follows the
//     caller's ACK. A CANCEL from the caller before that gives Hangup
//     abandoned.
//   - Hangup: CANCEL for an originated leg not answered yet (cause
//     cancelled; an INVITE still being sent is abandoned, a 200 that
//     crosses the CANCEL is ACKed and ended with BYE), BYE for an
//     answered leg (normal), 486 (cause busy) or 603 (otherwise; default
//     cause rejected) for an unanswered incoming leg.
//     A BYE from the party gives Hangup normal. A leg going away first gets
//     PlaybackDone for each prompt, RecordingStopped, Left (the simulated
//     switch's order), then Hangup; its bridge partner then gets Unbridged
//     and stays up.
//   - Events: ordered per leg, never blocking the switch (an unbounded
//     backlog behind an Options.EventBuffer channel), closed by Close,
//     which hangs up every leg in creation order and ends every room.
//
// Media (media.go, one UDP socket and one reading goroutine per leg; all
// media on the wall clock, 20 ms PCMU frames):
//
//   - Bridge / Unbridge relay RTP packets between the two parties
//     (symmetric RTP: a party's first packet fixes where we send to it),
//     with no decoding unless a leg is recorded, on the receiving leg's
//     own stream (its SSRC and sequence, the source's timestamps shifted):
//     a transfer that swaps the partner is no new SSRC behind the old
//     one's sequence, which phones' jitter buffers drop as late. RFC 4733
//     packets are relayed with the partner's telephone-event payload
//     type. Measured:
//     about 21 KB of Go heap and stacks per bridged call (two legs), see
//     TestRelayMemory.
//   - What a party hears comes from one source at a time: its player
//     (play.go: prompts, music on hold, DTMF) while it has something to
//     play, else the room's mix or the partner's relayed packets. Our own
//     streams (player, mix, echo) share one SSRC, sequence and timestamp
//     per leg; a pause starts a new talkspurt (marker, timestamp moved on
//     by the wall time that passed).
//   - Play: "tone:FREQ" (a sine for Options.ToneDuration), a name in
//     Options.Prompts (operators' WAVs, audio.LoadPrompts), or a built-in
//     prompt (audio.Prompt: moh, queue-wait, abandon, echo). Prompts queue
//     behind each other; each gets one PlaybackDone, when it ends or when
//     a Bridge, a Join or the hangup interrupts it. To an offered leg it is
//     early media: 183 Session Progress with our SDP first.
//   - Hold / Resume (hold.go): the held party hears "moh" looped, nobody
//     hears it; its bridge or room is kept and works again on Resume.
//     Mute: the party's voice reaches nobody (relay and rooms); it still
//     hears. Both independent of bridges, as in the simulated switch.
//   - DTMF (dtmf.go): RFC 4733 events received at the payload type the
//     party's SDP gives (default 101) go through audio.Receiver (one DTMF
//     event per press, a zero-duration first packet, lost starts and
//     repeated ends included). SendDTMF sends audio.Packets, one every
//     20 ms sharing the press's timestamp, marker on the first, 100 ms per
//     digit and 40 ms apart, pausing the leg's other audio.
//   - Conferences and monitoring (mix.go): a room mixes its members with
//     one goroutine ticking every 20 ms (only while it has members): one
//     frame per member from its jitter queue, audio.Mix over the
//     hears/speaks matrix of the modes (audio.Roles: Full heard by all,
//     Listen by none, Whisper by its coach only; nobody hears itself), each
//     mix sent on the member's own stream. Join with another mode or coach
//     changes them in place.
//   - Record (record.go): a stereo 8 kHz PCM16 WAV in Options.RecordingDir
//     — left what the party said (silence while muted or held), right what
//     it heard — and a JSON sidecar (recordingMeta) next to it, complete
//     when RecordingStopped (Event.Recording: the WAV's file name) is
//     emitted. No RecordingDir: telephony.ErrNotSupported.
//   - Echo test (echo.go): an INVITE to user 600 from a registered device
//     or a trunk is answered by the switch itself with no event: the
//     "echo" prompt, then every audio packet comes back on our SSRC. A
//     re-INVITE in it is answered in the same call (same media).
//
// Signalling (trunk.go, transfer.go, reinvite.go, info.go, refer.go):
//
//   - Trunks (Options.Trunks, SetTrunks; see Trunk): "tel:NUMBER" and bare
//     numbers go out through the first trunk (or the one named by
//     OriginateRequest.Tags["trunk"]) in E.164, read with the trunk's
//     Country (unreadable: ErrBadDestination; no trunk: ErrNotSupported).
//     A 401/407 from the trunk is answered with its Username/Password
//     (digest); the caller id — the request's From, else Trunk.CallerID,
//     else anonymous (RFC 3323) — goes in From and P-Asserted-Identity.
//     "sip:USER@HOST[:PORT]" is called directly (a trunk at that host
//     lends its credentials). Ringing, Answered and Hangup as for stations.
//     An Inbound trunk's INVITEs (from Address exactly, or from any port of
//     its host when Address has none) are customer calls; with a Country
//     their numbers reach Incoming in E.164; with DIDs a call to another
//     number gets 404.
//   - Trunk registration (register.go): a trunk with Register has a
//     goroutine of its own that REGISTERs through the switch's client,
//     from the SIP socket (AOR Username@Address's host, Contact
//     Username@ our address), answers 401/407 with digest and a 423 with
//     Min-Expires, refreshes halfway through the time granted (our
//     Contact's expires, else Expires), retries failures 5 s doubling to
//     5 min, all on Options.Clock; SetTrunks starts, stops and restarts
//     the loops (a new loop for a binding waits for the old one's
//     un-REGISTER), removal and Close un-REGISTER (Expires: 0, our Contact
//     only, 2 s at most). Registrations reports the states. The carrier's
//     INVITEs to our Contact are the trunk's calls (accepted as from an
//     Inbound trunk); their number is To's (dialled).
//   - Transfer: blind, inside the switch, as in the simulated switch: the
//     leg leaves its bridge (Unbridged for both) or room, is taken off hold
//     and unmuted, and a leg is placed to the destination with the party's
//     number as caller id; its Ringing, Answered and Hangup carry Other =
//     the transferred leg; on answer the two are bridged; if it fails the
//     leg stays up alone; a Bridge, Join, new Transfer or the hangup of the
//     leg while it rings cancels it (Hangup cancelled).
//   - re-INVITE from a party: hold (a=sendonly/inactive or c=0.0.0.0),
//     resume or a new RTP address get 200 OK with our SDP, the direction
//     mirrored; the leg's media follows (nothing is sent to a party that
//     holds); the 2xx is resent until the ACK. An offer without PCMU gets
//     488 and the call goes on; a re-INVITE without SDP gets our offer and
//     the ACK's answer is used. No Held/Resumed events: those report the
//     platform's Hold, not a phone's hold key.
//   - SIP INFO DTMF: application/dtmf-relay ("Signal=5") and
//     application/dtmf ("5") give one DTMF event each and 200 OK; other
//     bodies 415, unreadable ones 400, an empty INFO 200.
//   - REFER from phones (RFC 3515), in a bridged call's dialog: blind
//     (Refer-To sip: or tel:) transfers the other party of the bridge with
//     Transfer's machinery — 202, NOTIFY message/sipfrag "100 Trying", then
//     "200 OK" and the referrer's leg is hung up, or the failure and the
//     two are bridged back; attended (Refer-To ?Replaces= naming the
//     phone's other call on this switch) bridges the two remaining parties
//     and hangs up both of the referrer's legs. "Refer-Sub: false" turns
//     the NOTIFYs off. A sip: URI at the switch's address is a station of
//     the directory, else a number through the trunk.
//
// SIP over TLS (tls.go, RFC 3261 section 26): with Options.TLSListen and
// Options.TLS (our certificate; RootCAs for carriers, nil: the system's)
// the sipgo server also serves a TLS listener. A dialog keeps the
// transport it started on: an INVITE that came over TLS is answered with
// our TLS Contact (;transport=tls), and every request of a TLS dialog
// (ACK, BYE, re-INVITE answers, INFO, NOTIFY, CANCEL) goes back over TLS on
// the connection the dialog was set up on (sipgo's DialogUA
// RewriteContact: the INVITE's or its response's source, where sipgo's
// TLS transport finds the open connection) rather than to the peer's
// Contact. What that relies on in sipgo v1.7.2: accepted and dialled TLS
// connections are pooled by remote address and reused for requests to it
// (connection reuse is on by default); a request to an address with no
// connection dials one, verifying the certificate for the host it names.
//
//   - Registrar: a REGISTER over TLS records Contact.Transport "TLS"; the
//     station is called over TLS through the connection it registered on
//     (its Contact's address is not used: phones seldom listen where they
//     say). A phone whose connection dropped cannot be reached until it
//     registers again.
//   - Trunks with Transport "tls": INVITEs and REGISTERs to
//     sip:…@Address;transport=tls (port 5061 by default) over a TLS
//     connection we open, the carrier's certificate verified (tlsHint
//     names a failure in words); its calls are accepted over TLS only,
//     from any port of its host. Without TLSListen such a trunk's calls
//     and REGISTERs fail (errNoTLS, telephony.ErrNotSupported). A
//     "sip:…;transport=tls" destination is called over TLS the same way.
//   - Close stops the listener and closes every TLS connection (sipgo's
//     transport layer, with the user agent).
//
// SRTP (srtp.go, RFC 3711) with SDES keys (RFC 4568, a=crypto in the SDP;
// parsed in sdp.go): suites AES_CM_128_HMAC_SHA1_80 and _32, one key per
// line, no MKI, lifetimes of 2^31 packets or more, no session parameters
// but WSH. The leg decrypts in its read loop before anything else sees a
// packet and encrypts in write after everything else, so the relay,
// rooms, recorder, player, DTMF and echo work unchanged; a packet that
// fails authentication (or is replayed) is dropped, counted
// (mediaStats.Rejected) and logged at most every 10 s per leg, and never
// teaches the leg the party's address. Keys are fresh per leg
// (crypto/rand) and never logged (sdesCrypto.String hides them).
//
//   - An INVITE offering RTP/SAVP (or RTP/SAVPF) with a line we can use
//     is answered RTP/SAVP with the party's first usable line's tag and
//     suite and our own key; RTP/AVP stays plain; SAVP without a usable
//     line, or DTLS-SRTP, gets 488 with a Warning saying why.
//   - Our offers: a trunk with SRTP (Trunk.SRTP, TLS only) offers
//     RTP/SAVP (tag 1, _80) and a plain or unusable answer ends the call
//     (BYE, Hangup failed, a log line); a station registered over TLS is
//     offered SRTP and a plain answer is taken (logged); UDP stations and
//     sip: URIs get plain offers.
//   - Re-INVITEs keep the leg encrypted or plain (488 otherwise); a new
//     key of the party's re-keys what we receive (the old one still
//     decrypts packets on their way), ours is kept unless the suite
//     changes. RTCP is neither sent nor read (SRTCP included).
//
// Browser phones (browser.go): a station whose device is the softphone
// page (Options.Browsers) is rung over WebRTC (internal/telephony/webrtc);
// the leg is an rtpLeg whose party is a loopback shim, so every media
// feature applies; AnswerPhone asks the page to answer.
//
// # Not done yet
//
// SIP over TCP or WebSocket, sips: URIs, DTLS-SRTP for SIP phones (the
// browser phone has its own), SRTP with MKI or several keys per line, a
// plain fallback when a TLS phone refuses our SRTP offer (488: the call
// fails), client certificates, session timers, NAT handling beyond symmetric RTP, codec
// transcoding (PCMU only), RTCP, reordering in the jitter queues (late
// packets play late), packet loss concealment. Trunks: host names or DNS
// SRV for inbound matching or for the registrar, outbound proxies, NAT
// discovery for the registered Contact. REFER outside a
// dialog, attended REFER to a call not yet answered or on another server
// (403/481), INVITE with Replaces, UPDATE.
//
// # Tests
//
// switch_test.go drives the switch with in-process sipgo phones on
// 127.0.0.1 (registering with digest auth, answering, rejecting, ringing,
// sending and counting RTP); their received audio is decoded by an ear
// (media_test.go) so media tests check content with Goertzel: the
// conference where each of three parties hears the other two and never
// itself (mix_test.go), whisper where the customer never receives the
// supervisor's tone, hold (music to the held party, nothing from it),
// mute, stereo recordings' channels (record_test.go), DTMF both ways and
// its RTP timing (dtmf_test.go), prompts and early media (play_test.go),
// the echo extension (echo_test.go). world_test.go runs the whole
// telephony/switchtest contract against the switch with sipgo peers that
// speak a tone each and decode what they hear (cases in parallel).
// sipp_switch_test.go and peers_test.go use SIPp and baresip (skipped
// without them unless CENTRALITA_REQUIRE_PEERS=1); sdp_test.go and
// dtmf_test.go fuzz what we parse from the network (SDP, RTP headers, the
// telephone-event payload type); TestGarbageOnSIPPort sends malformed
// datagrams to the SIP port, hostile_test.go every method without
// Call-ID, From, To or Contact or with a lying Content-Length (handlers
// are guarded by wellFormed: sipgo passes such requests on), and
// hostile_sig_test.go bad in-dialog requests. INFO, REFER and re-INVITE
// act on a call only with its dialog's tags (inDialog), not its Call-ID
// alone. close_test.go checks that Close leaves no goroutine of the
// switch and no RTP socket behind (a goleak-style stack scan) and that
// hangups empty the switch's maps. dial_test.go keeps an INVITE being
// sent (a carrier that never finishes the TLS handshake) while another
// call is placed and answered, and while its leg, or the leg it
// transfers, is hung up or the switch closed. load_test.go (only with
// CENTRALITA_SIP_LOAD=CALLS, optional CENTRALITA_SIP_RATE) pushes SIPp
// customer calls through the switch, which answers each. register_test.go
// drives trunk registration against a sipgo registrar on a fake clock
// (challenge, refresh, restart, un-REGISTER, backoff, Close) and against
// SIPp, which checks our digest itself (testdata/sipp_uas_registrar.xml).
// tls_test.go makes a throwaway CA with crypto/x509: a phone that
// registers over TLS only (listening nowhere) is called over its
// connection, answers, and gets our BYE over TLS, then calls in over TLS;
// a TLS trunk's call, REGISTER and inbound call to the registered Contact
// go over TLS to a sipgo carrier; carriers whose certificate does not
// verify (unknown CA, another address) get no INVITE and Originate says
// why; Close leaves no TLS connection or listener behind. srtp_test.go
// has test peers doing SRTP with pion/srtp directly: an SRTP caller
// bridged to a plain phone (audio and RFC 4733 both ways; tampered, plain
// and replayed packets dropped; re-keying by re-INVITE; a plain re-offer
// refused), offers refused with 488, the echo test with both suites, an
// SRTP TLS trunk to a carrier answering SRTP (audio both ways) or plain
// (the call fails), TLS stations with and without SRTP; the a=crypto
// parser is fuzzed; peers_test.go calls the echo test from baresip with
// srtp-mand.
package sip
