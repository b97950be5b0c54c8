package txngraph

// CheckListAppendPreferring is CheckListAppend with a choice among each
// key's tied longest reads, for the reference tests to replay Elle's.
var CheckListAppendPreferring = checkListAppend
