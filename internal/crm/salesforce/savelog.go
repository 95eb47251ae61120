package salesforce

import "github.com/centralita/centralita/internal/crm"

// TaskFields is the call's Task as the softphone hands it to Open CTI's
// saveLog when the call center logs from the browser: the fields
// LogActivity writes, plus entityApiName, TaskSubtype and the call-id
// field (callIDField; default neoCallId__c) so the server and the browser
// write the same record shape.
func TaskFields(a crm.Activity, callIDField string) map[string]any {
	if callIDField == "" {
		callIDField = "neoCallId__c"
	}
	t := taskBody(a)
	t["entityApiName"] = "Task"
	t["TaskSubtype"] = "Call"
	t[callIDField] = a.CallID
	return t
}
