-- A CronJob can start a Job now, and be suspended or resumed.
local suspended = obj.spec ~= nil and obj.spec.suspend == true
return {
  ["create-job"] = {displayName = "Run now", iconClass = "fa fa-fw fa-plus"},
  suspend = {displayName = "Suspend", disabled = suspended, iconClass = "fa fa-fw fa-pause"},
  resume = {displayName = "Resume", disabled = not suspended, iconClass = "fa fa-fw fa-play"},
}
