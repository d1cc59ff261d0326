-- Stop a CronJob from starting Jobs.
obj.spec.suspend = true
return obj
