-- Let a suspended CronJob start Jobs again.
obj.spec.suspend = false
return obj
