-- Pause a Deployment's rollout.
obj.spec.paused = true
return obj
