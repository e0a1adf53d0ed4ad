# Locust peer for bench/throughput.sh: FastHttpUser, no wait, one GET /.
from locust import FastHttpUser, constant, task


class Root(FastHttpUser):
    wait_time = constant(0)

    @task
    def root(self):
        self.client.get("/")
