package messaging

// GuardedClient exposes the webhook client to the tests.
var GuardedClient = guardedClient
