-- Resume a Deployment's rollout.
obj.spec.paused = nil
return obj
