package state

const statefulSchema = ""
