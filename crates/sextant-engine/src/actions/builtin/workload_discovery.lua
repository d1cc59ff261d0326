-- A Deployment, StatefulSet or DaemonSet can be restarted; a Deployment
-- can also be paused and resumed.
local found = {restart = {displayName = "Restart", iconClass = "fa fa-fw fa-redo"}}
if obj.kind == "Deployment" then
  local paused = obj.spec ~= nil and obj.spec.paused == true
  found.pause = {displayName = "Pause rollout", disabled = paused, iconClass = "fa fa-fw fa-pause-circle"}
  found.resume = {displayName = "Resume rollout", disabled = not paused, iconClass = "fa fa-fw fa-play-circle"}
end
return found
