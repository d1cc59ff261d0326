-- Start a Job from a CronJob's template now, owned by the CronJob (as
-- `kubectl create job --from=cronjob/NAME` does, with the CronJob
-- controller's annotation for a manual run).
local template = obj.spec.jobTemplate
local meta = template.metadata or {}
local labels = {}
for k, v in pairs(meta.labels or {}) do
  labels[k] = v
end
local annotations = {["cronjob.kubernetes.io/instantiate"] = "manual"}
for k, v in pairs(meta.annotations or {}) do
  annotations[k] = v
end
local name = string.sub(obj.metadata.name, 1, 52) .. "-" .. string.sub(tostring(os.time()), -10)
local job = {
  apiVersion = "batch/v1",
  kind = "Job",
  metadata = {
    name = name,
    namespace = obj.metadata.namespace,
    labels = labels,
    annotations = annotations,
    ownerReferences = {{
      apiVersion = obj.apiVersion,
      kind = obj.kind,
      name = obj.metadata.name,
      uid = obj.metadata.uid,
      controller = true,
      blockOwnerDeletion = true,
    }},
  },
  spec = template.spec,
}
return {{operation = "create", resource = job}}
