from enum import StrEnum


class GitHostDto(StrEnum):
    BITBUCKET_CLOUD = "bitbucket_cloud"
    BITBUCKET_SERVER = "bitbucket_server"
    GITHUB = "github"
    GITLAB = "gitlab"

    def __str__(self) -> str:
        return str(self.value)
